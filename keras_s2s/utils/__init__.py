"""Small helpers shared across keras_s2s."""
