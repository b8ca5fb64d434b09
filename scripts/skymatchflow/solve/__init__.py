"""From pair differences and whole-image skies to each group's sky: the reference's solve and its options."""
