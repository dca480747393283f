"""Training of small MCU-sized BNNs with learned Sparks codebooks (issue 4). Run with /usr/bin/python3 (PyTorch 1.13)."""
