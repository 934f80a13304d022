"""Statistics over identities: bootstrap intervals, permutation tests with Holm correction,
demographic differentials and the score-matrix clustering index. Plain arrays in, plain numbers out."""
