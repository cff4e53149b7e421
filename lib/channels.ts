import { channel } from 'node:diagnostics_channel'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Why a request gets no more 102s: the gate's answer, or a bound reached while it waited. */
export type WithheldReason = 'requireExpect' | 'peer' | 'proxy' | 'when' | 'limit' | 'budget' | 'deadline'

/** Published on `fastify-processing:sent` for every 102 written. */
export interface SentMessage {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  /** `METHOD /url` of the route. */
  readonly route: string
  /** 102s this request has had, this one included. */
  readonly sent: number
  /** Written by `reply.processing()` rather than by the timer. */
  readonly manual: boolean
  /** Bytes of this interim response on HTTP/1.1 (status line and headers). */
  readonly bytes: number
  /** Sent by the probe endpoint (`probe` option), not by the plugin for a slow route: absent otherwise. */
  readonly probe?: true
}

/** Published on `fastify-processing:withheld`, once per request, when a 102 that was due does not go out. */
export interface WithheldMessage {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly route: string
  readonly reason: WithheldReason
  /** The peer row or declared hop that set the limit, or the proxy-sign headers seen; null otherwise. */
  readonly detail: string | null
}

// Node's convention (undici, Fastify): named channels that cost one property read when nobody listens.
export const sentChannel = channel('fastify-processing:sent')
export const withheldChannel = channel('fastify-processing:withheld')
