"""Motion completion from a single image (stage `motion_completion`, notebook 10): the motion library as
"pose -> what follows" examples (`library`), methods that answer from a still (`model`), leave-one-clip-out
scoring (`evaluate`), and a still continued in physics by a trained policy (`perform`)."""
