"""The model language: YAML with positions, schema validation, expressions to sympy."""
