"""The operator console: hotline staff take flagged conversations and answer through the person's
own channel. A face on the gateway's conversation store (bot/store.py); bot/ never imports it."""
