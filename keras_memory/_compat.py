"""Configs saved by earlier keras-memory versions, read in today's terms."""

# 0.1.0 -> 0.2.0: one name per concept (memory slots are `memory_size`, the
# embedding width is `memory_dim`, as in the NTM).
RENAMED_ARGUMENTS = {"num_memories": "memory_size", "embed_dim": "memory_dim"}


def upgrade_config(config):
    """`config` with the argument names of earlier versions renamed."""
    config = dict(config)
    for old, new in RENAMED_ARGUMENTS.items():
        if old in config and new not in config:
            config[new] = config.pop(old)
    return config
