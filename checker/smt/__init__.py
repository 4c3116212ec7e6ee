"""SMT encoding: sympy expressions to z3 terms, and the model's transition system."""
