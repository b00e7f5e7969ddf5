"""The gateway: channels, the durable inbox and outbox, the router, and the conversation store."""
