"""Data: padding (numpy, `padding`) and tf.data pipelines (`pipeline`)."""
