"""What the exporters that rebuild the encoder's RNNs from its weights share
(`onnx_encoder` with ONNX's RNN operators, `tflite_encoder` with a TFLite loop)."""


def direction_layers(encoder, rnn):
    """The Keras RNN layers of one encoder layer: `[forward, backward]` when the encoder
    is bidirectional, else `[rnn]`."""
    return [rnn.forward_layer, rnn.backward_layer] if encoder.bidirectional else [rnn]


def check_default_cells(encoder, exporter):
    """Refuses an encoder whose cells are not Keras's defaults (tanh, sigmoid, with a
    bias), the only ones the rebuilt RNNs compute; `exporter` names the rebuilding."""
    for rnn in encoder.rnns:
        for layer in direction_layers(encoder, rnn):
            cell = layer.cell
            if (cell.activation.__name__, cell.recurrent_activation.__name__) != ("tanh", "sigmoid") \
                    or not cell.use_bias:
                raise ValueError(f"{exporter} maps Keras's default RNN cells (tanh, sigmoid, "
                                 "with bias); this encoder's cells differ.")
