"""The ecosystem map: the company, its customer segments and its partners, with value flows and gaps."""
