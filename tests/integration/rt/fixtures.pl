# RT initialdata for the integration tests: a Support queue, a multi-value Tags field, an agent with the
# rights the connector needs, and a customer.
@Queues = (
    {
        Name              => 'Support',
        Description       => 'Customer support',
        CorrespondAddress => 'support@helpdesk.test',
        CommentAddress    => 'support-comment@helpdesk.test',
    },
);
@CustomFields = (
    {
        Name        => 'Tags',
        Type        => 'FreeformMultiple',
        LookupType  => 'RT::Queue-RT::Ticket',
        Description => 'Tags',
        ApplyTo     => [ 'Support', 'General' ],
    },
);
@Users = (
    {
        Name         => 'agent1',
        Password     => 'agentpass1',
        EmailAddress => 'agent1@helpdesk.test',
        RealName     => 'Agent One',
        Privileged   => 1,
    },
    {
        Name         => 'alice@example.com',
        EmailAddress => 'alice@example.com',
        RealName     => 'Alice Example',
        Privileged   => 0,
    },
);
@ACL = (
    (
        map { { UserId => 'agent1', Queue => $_->[0], Right => $_->[1] } }
        map { my $q = $_; map { [ $q, $_ ] } qw(SeeQueue ShowTicket CreateTicket ReplyToTicket CommentOnTicket
            ShowTicketComments ModifyTicket OwnTicket TakeTicket StealTicket ShowOutgoingEmail) } qw(Support General)
    ),
    { UserId => 'agent1', CF => 'Tags',    Right => [qw(SeeCustomField ModifyCustomField)] },
    { UserId => 'agent1', CF => 'Content', LookupType => 'RT::Class-RT::Article', Right => [qw(SeeCustomField ModifyCustomField)] },
    { UserId => 'agent1', Right => [qw(ManageAuthTokens ShowArticle ModifyArticle CreateArticle SeeClass)] },
    # Customers write back on their own tickets (as RT's mail gateway lets them).
    { GroupDomain => 'RT::Queue-Role', GroupType => 'Requestor', Queue => 'Support', Right => [qw(ShowTicket ReplyToTicket)] },
);
1;
