"""The assistant's custom actions (rasa-sdk); `rasa run actions` loads this package."""
