#!/usr/bin/perl
# Create N tickets in the Support queue quickly through RT's Perl API (for the sync benchmark):
# perl seed-tickets.pl N   -> each ticket has a customer message and an agent reply.
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT;
RT::LoadConfig();
RT::Init();
my $n = shift @ARGV || 10;
my $agent = RT::User->new(RT->SystemUser);
$agent->Load('agent1') or die "no agent1\n";
my $as_agent = RT::CurrentUser->new($agent);
my @topics = ('password reset', 'invoice copy', 'shipping delay', 'refund request', 'login error');
for my $i (1 .. $n) {
    my $topic = $topics[$i % @topics];
    my $mime = MIME::Entity->build(
        Type => 'text/plain', Charset => 'UTF-8',
        Data => ["Hello, I need help with a $topic (case $i). Thanks!\n"],
    );
    my $t = RT::Ticket->new(RT->SystemUser);
    my ($id, undef, $err) = $t->Create(
        Queue => 'Support', Subject => "Help with $topic #$i", Requestor => ["customer$i\@example.com"],
        MIMEObj => $mime, 'CustomField-Tags' => [ split / /, $topic ],
    );
    die "create failed: $err\n" unless $id;
    my $mine = RT::Ticket->new($as_agent);
    $mine->Load($id);
    $mine->Correspond(Content => "Thanks for writing about your $topic; we are on it.");
}
print "$n\n";
