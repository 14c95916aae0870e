#!/usr/bin/perl
# The customer writes back on a ticket (as the mail gateway would): perl as-customer.pl TICKET EMAIL TEXT
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
RT::LoadConfig();
RT::Init();
my ($id, $email, $text) = @ARGV;
my $user = RT::User->new(RT->SystemUser);
$user->LoadByEmail($email) or die "no user $email\n";
my $ticket = RT::Ticket->new(RT::CurrentUser->new($user));
$ticket->Load($id) or die "no ticket $id\n";
my $mime = MIME::Entity->build(Type => 'text/plain', Charset => 'UTF-8', From => $email, Data => [$text]);
my ($ok, $msg) = $ticket->Correspond(MIMEObj => $mime);
die "correspond failed: $msg\n" unless $ok;
print "ok\n";
