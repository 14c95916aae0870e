#!/usr/bin/perl
# Make N changes to the oldest Support tickets (for the incremental-sync benchmark): even ones get a customer
# reply, odd ones a status change. perl change-tickets.pl N
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
RT::LoadConfig();
RT::Init();
my $n = shift @ARGV || 50;
my $tickets = RT::Tickets->new(RT->SystemUser);
$tickets->FromSQL("Queue = 'Support'");
$tickets->OrderBy(FIELD => 'id', ORDER => 'ASC');
$tickets->RowsPerPage($n);
my $i = 0;
while (my $t = $tickets->Next) {
    if ($i++ % 2 == 0) {
        my ($email) = $t->Requestors->MemberEmailAddresses;
        my $user = RT::User->new(RT->SystemUser);
        $user->LoadByEmail($email);
        my $mine = RT::Ticket->new(RT::CurrentUser->new($user));
        $mine->Load($t->Id);
        my $mime = MIME::Entity->build(Type => 'text/plain', Charset => 'UTF-8', From => $email, Data => ["Any update on this? (change $i)\n"]);
        my ($ok, $msg) = $mine->Correspond(MIMEObj => $mime);
        die "correspond failed: $msg\n" unless $ok;
    } else {
        my ($ok, $msg) = $t->SetStatus('stalled');
        die "status failed: $msg\n" unless $ok;
    }
}
print "$i\n";
