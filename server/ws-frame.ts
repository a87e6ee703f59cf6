/**
 * Whole WebSocket text frames, built once per event. A server's frames are unmasked (RFC 6455
 * §5.1), so one event's frame is the same bytes for every subscriber: the relay writes those
 * bytes to each socket instead of having `ws` frame the payload again, socket by socket.
 */

/** The text frame (FIN set, opcode 1, RFC 6455 §5.2) carrying `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + n);
  frame[0] = 0x81;
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, header);
  return frame;
}
