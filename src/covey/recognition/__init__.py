"""Recognition: quarterly partner awards chosen by configurable rules, and the co-sell leaderboard."""
