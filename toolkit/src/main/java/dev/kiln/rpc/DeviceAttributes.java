package dev.kiln.rpc;

import java.util.OptionalLong;

/**
 * What the device says about itself (DevGetAttr and GetCRTMaxPacketSize). A microTVM device answers
 * every DevGetAttr with an error; then {@code exists} is answered on the host (a CPU device is always
 * there, as TVM's host does) and the rest are empty.
 */
public record DeviceAttributes(boolean exists, OptionalLong totalMemoryBytes, OptionalLong availableMemoryBytes,
    long maxTransferBytes) {}
