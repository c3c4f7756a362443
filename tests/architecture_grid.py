"""The architecture grid the model and export tests sweep: every sensible combination of
cell, direction, attention score, attention placement, input feeding and depth
(`GRID`), the variants off the grid (`EXTRAS`), and a subset that covers every
attention setup once (`covering_subset`)."""

import itertools
from dataclasses import dataclass

from keras_s2s.layers.attention import SCORES


@dataclass(frozen=True)
class Variant:
    cell: str
    bidirectional: bool
    attention: str
    placement: str
    input_feeding: bool
    layers: int
    extra: tuple = ()  # other Seq2Seq arguments, as (name, value) pairs

    def kwargs(self):
        kwargs = dict(
            cell=self.cell,
            bidirectional=self.bidirectional,
            attention=self.attention,
            attention_placement=self.placement,
            input_feeding=self.input_feeding,
            encoder_layers=self.layers,
            decoder_layers=self.layers,
            bridge="dense",
        )
        kwargs.update(self.extra)
        return kwargs

    def __str__(self):
        parts = [self.cell, "bi" if self.bidirectional else "uni", self.attention]
        if self.attention != "none":
            parts.append(f"{self.placement}_placement")
            parts.append("feed" if self.input_feeding else "nofeed")
        parts.append(f"L{self.layers}")
        parts += [f"{name}={value}" for name, value in self.extra]
        return "-".join(parts)


def sensible(attention, placement, input_feeding):
    """Combinations that mean something (the others are rejected or redundant)."""
    if attention == "none":
        # Placement is irrelevant without attention, and there is nothing to feed.
        return placement == "luong" and not input_feeding
    if placement == "bahdanau":
        # The Bahdanau placement already feeds the context: no input feeding.
        return not input_feeding
    return True


GRID = [
    Variant(cell, bidirectional, attention, placement, feeding, layers)
    for cell, bidirectional, attention, placement, feeding, layers in itertools.product(
        ("gru", "lstm"),
        (False, True),
        ("none",) + SCORES,
        ("luong", "bahdanau"),
        (False, True),
        (1, 2),
    )
    if sensible(attention, placement, feeding)
]

# Variants off the grid: the other bridges, source reversal, decoder sizes that differ
# from the encoder's, dropout (inactive at inference), attention_units.
EXTRAS = [
    Variant("gru", False, "general", "luong", True, 1,
            extra=(("reverse_source", True),)),
    Variant("lstm", True, "none", "luong", False, 2,
            extra=(("reverse_source", True),)),
    Variant("lstm", False, "dot", "luong", False, 2, extra=(("bridge", "copy"),)),
    Variant("gru", True, "concat", "bahdanau", False, 1, extra=(("bridge", "copy"),)),
    Variant("gru", False, "bahdanau", "luong", True, 2, extra=(("bridge", "zero"),)),
    Variant("lstm", True, "bahdanau", "bahdanau", False, 1,
            extra=(("attention_units", 5), ("decoder_units", 12))),
    Variant("gru", True, "general", "luong", True, 2,
            extra=(("decoder_layers", 1), ("decoder_units", 6))),
    Variant("lstm", False, "concat", "luong", True, 1,
            extra=(("attention_units", 3), ("dropout", 0.3))),
]


def covering_subset(variants):
    """Every attention setup once, with the cell, direction and depth rotating."""
    setups = {}
    for variant in variants:
        key = (variant.attention, variant.placement, variant.input_feeding)
        setups.setdefault(key, []).append(variant)
    subset = []
    for i, options in enumerate(setups.values()):
        subset.append(options[(i * 3) % len(options)])
    return subset
