"""The back office owns no tables; having this module lets post_migrate reach the app."""
