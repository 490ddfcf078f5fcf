"""chaingrad's demos: the classic lessons of gradient descent and backprop."""
