"""Everything that leaves the portal: the outbox, outbound HTTP, signing; never a portal model."""
