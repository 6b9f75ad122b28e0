#!/usr/bin/perl
# tests/integration/dkimsign.pl - DKIM-sign a message for auth.sh
#
#   perl dkimsign.pl KEYFILE DOMAIN SELECTOR <IN >OUT
#
# Reads a message (any line ends), writes it with CRLF line ends and a
# DKIM-Signature field on top: rsa-sha256, relaxed/relaxed, d=DOMAIN,
# s=SELECTOR, the PEM private key KEYFILE (Mail::DKIM::Signer, Debian
# package libmail-dkim-perl). Exit 1 when the signer fails.
use strict;
use warnings;
use Mail::DKIM::Signer;

@ARGV == 3 or die "usage: $0 KEYFILE DOMAIN SELECTOR <IN >OUT\n";
my ($keyfile, $domain, $selector) = @ARGV;

binmode STDIN;
binmode STDOUT;
my $msg = do { local $/; <STDIN> };	# not a global undef $/: Mail::DKIM reads KEYFILE by lines
$msg =~ s/\r\n/\n/g;
$msg =~ s/\r/\n/g;
$msg .= "\n" unless $msg =~ /\n\z/;
$msg =~ s/\n/\r\n/g;

my $signer = Mail::DKIM::Signer->new(
	Algorithm => 'rsa-sha256',
	Method => 'relaxed/relaxed',
	Domain => $domain,
	Selector => $selector,
	KeyFile => $keyfile,
	Headers => 'from:to:subject:date:message-id:mime-version:content-type',
);
$signer->PRINT($msg);
$signer->CLOSE;
my $sig = $signer->signature or die "$0: no signature\n";
my $field = $sig->as_string;
$field =~ s/\r?\n/\r\n/g;
print $field, "\r\n", $msg;
