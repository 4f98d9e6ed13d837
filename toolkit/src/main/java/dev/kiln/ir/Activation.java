package dev.kiln.ir;

/** A fused activation applied to an op's output (TFLite's ActivationFunctionType). */
public enum Activation { NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT }
