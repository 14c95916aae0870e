#!/usr/bin/perl
# Create an RT auth token for a user through RT's Perl API (RT has no command-line tool for it).
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
RT::LoadConfig();
RT::Init();
my ($name, $desc) = (@ARGV, 'integration tests');
my $user = RT::User->new(RT->SystemUser);
$user->Load($name) or die "no user $name\n";
my $tok = RT::AuthToken->new(RT->SystemUser);
my ($id, $msg, $authstring) = $tok->Create(Owner => $user->Id, Description => $desc);
die "token create failed: $msg\n" unless $id;
print "$authstring\n";
