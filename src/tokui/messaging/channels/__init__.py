"""Channel implementations, one module each, behind tokui.messaging.channel.Channel."""
