"""MLR pricing redistribution: credibility of claims by client group, rate optimisation."""
