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
my $cf = RT::CustomField->new(RT->SystemUser);
$cf->LoadByName(Name => 'Tags', LookupType => 'RT::Queue-RT::Ticket');
my $tags_cf = $cf->Id or die "no Tags field\n";
my @topics = ('password reset', 'invoice copy', 'shipping delay', 'refund request', 'login error');
# One database transaction per 100 tickets: SQLite commits (fsync) dominate otherwise.
# Scrips are skipped (no autoreply/notification mail): this is bulk history, not live traffic.
my $scrips = RT::Scrips->new(RT->SystemUser);
$scrips->UnLimit;
my @paused = grep { !$_->Disabled } @{ $scrips->ItemsArrayRef };
$_->SetDisabled(1) for @paused;
$RT::Handle->BeginTransaction;
for my $i (1 .. $n) {
    if ($i % 100 == 0) { $RT::Handle->Commit; $RT::Handle->BeginTransaction; }
    my $topic = $topics[$i % @topics];
    my $mime = MIME::Entity->build(
        Type => 'text/plain', Charset => 'UTF-8',
        Data => ["Hello, I need help with a $topic (case $i). Thanks!\n"],
    );
    my $t = RT::Ticket->new(RT->SystemUser);
    my ($id, undef, $err) = $t->Create(
        Queue => 'Support', Subject => "Help with $topic #$i", Requestor => ["customer$i\@example.com"],
        MIMEObj => $mime, "CustomField-$tags_cf" => [ split / /, $topic ],
    );
    die "create failed: $err\n" unless $id;
    my $mine = RT::Ticket->new($as_agent);
    $mine->Load($id);
    $mine->Correspond(Content => "Thanks for writing about your $topic; we are on it.");
}
$RT::Handle->Commit;
$_->SetDisabled(0) for @paused;
print "$n\n";
