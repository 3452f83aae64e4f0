"""Training the demo PETR on synthetic nuScenes-layout sets (see tools/train_demo_petr.py)."""
