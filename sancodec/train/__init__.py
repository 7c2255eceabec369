"""Training with torch: the SAN module, the torch activations, ``fit`` and the kernel-size sweep.

Imports torch; nothing outside ``train``, ``paper``, ``export`` and the CLI's training
commands imports this package."""
