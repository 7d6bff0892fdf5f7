"""Where answers come from: synthetic generation, cassettes, or a live upstream."""
