"""Partner NPS: survey campaigns to partner users, their answers, and the score across campaigns."""
