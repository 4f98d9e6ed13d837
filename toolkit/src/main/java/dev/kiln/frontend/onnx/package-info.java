/** Reads ONNX model files (protobuf ModelProto, NCHW) into the NHWC {@code ir.Graph}: parse, check, lower node by node. */
package dev.kiln.frontend.onnx;
