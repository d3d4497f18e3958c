// Every pure frame codec in one import: the entry point for unit tests and fuzzers. The wire
// layout is specified in docs/protocol.md.
export { type FrameHeader, readFrameHeader, isRequestOpcode, isResponseOpcode } from './frame-header';
export {
  type RequestFrame,
  encodeRequestFrame,
  writeRequestFrame,
  decodeRequestFrame,
} from './request-codec';
export {
  type ResponseFrame,
  encodeResponseFrame,
  writeResponseFrame,
  decodeResponseFrame,
} from './response-codec';
export {
  type HandshakeFrame,
  type HandshakeHello,
  type HandshakeRefusal,
  encodeHelloFrame,
  encodeWelcomeFrame,
  encodeRefuseFrame,
  decodeHandshakeFrame,
} from './handshake-codec';
