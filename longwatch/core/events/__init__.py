"""Events from detectors, AI CCTV and vendors, and what they keep (docs/events.md).

``record`` stores an event and applies its window rule, ``rules`` reads the
window rules, ``detect`` runs a detector plugin over stored clips (resuming
from checkpoints), ``dataset`` exports reviewed events as training data, and
``tasks`` declares their jobs.
"""
