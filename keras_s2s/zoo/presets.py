"""Named architectures: plain dicts of `Seq2Seq` arguments (without the vocabulary sizes).

Sizes suit the built-in tasks (they train in a minute or two on 2 CPU cores); for real
corpora, override `units` and `embedding_dim` (`nmt_tutorial` is the TensorFlow NMT
tutorial's size).
"""

PRESETS = {
    "rnn_gru": {
        "description": "GRU encoder-decoder without attention: the fixed-size bottleneck "
                       "baseline (Cho et al., 2014).",
        "config": {"cell": "gru", "units": 64, "embedding_dim": 32, "attention": "none",
                   "bridge": "dense"},
    },
    "sutskever_lstm": {
        "description": "Two-layer LSTM without attention, reading the source backwards "
                       "(Sutskever et al., 2014).",
        "config": {"cell": "lstm", "units": 64, "embedding_dim": 32, "attention": "none",
                   "encoder_layers": 2, "decoder_layers": 2, "bridge": "copy",
                   "reverse_source": True},
    },
    "luong_dot_lstm": {
        "description": "LSTM with Luong dot attention after the decoder RNN, input feeding "
                       "(Luong et al., 2015).",
        "config": {"cell": "lstm", "units": 64, "embedding_dim": 32, "attention": "dot",
                   "attention_placement": "luong", "input_feeding": True, "bridge": "copy"},
    },
    "luong_general_lstm": {
        "description": "LSTM with Luong general (bilinear) attention, input feeding "
                       "(Luong et al., 2015).",
        "config": {"cell": "lstm", "units": 64, "embedding_dim": 32, "attention": "general",
                   "attention_placement": "luong", "input_feeding": True, "bridge": "copy"},
    },
    "luong_concat_gru": {
        "description": "GRU with Luong concat attention (Luong et al., 2015).",
        "config": {"cell": "gru", "units": 64, "embedding_dim": 32, "attention": "concat",
                   "attention_placement": "luong", "bridge": "dense"},
    },
    "bahdanau_bigru": {
        "description": "Bidirectional GRU encoder, Bahdanau additive attention before the "
                       "decoder RNN (Bahdanau et al., 2015); the default of the main job.",
        "config": {"cell": "gru", "units": 64, "embedding_dim": 32, "bidirectional": True,
                   "attention": "bahdanau", "attention_placement": "bahdanau",
                   "bridge": "dense"},
    },
    "bahdanau_bilstm": {
        "description": "Bidirectional LSTM encoder with Bahdanau additive attention.",
        "config": {"cell": "lstm", "units": 64, "embedding_dim": 32, "bidirectional": True,
                   "attention": "bahdanau", "attention_placement": "bahdanau",
                   "bridge": "dense"},
    },
    "nmt_tutorial": {
        "description": "The TensorFlow NMT tutorial's size: bidirectional GRU 256, 256-d "
                       "embeddings, Bahdanau attention (for real corpora such as spa-eng).",
        "config": {"cell": "gru", "units": 256, "embedding_dim": 256, "bidirectional": True,
                   "attention": "bahdanau", "attention_placement": "bahdanau",
                   "bridge": "dense"},
    },
}
