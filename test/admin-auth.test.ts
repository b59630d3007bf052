import { describe, expect, it } from 'vitest'
import { testApp } from './helpers/fake-deps.js'

const TOKEN = 'a-long-admin-token-0123456789'

describe('admin authentication', () => {
  it('without a token, answers loopback clients only', async () => {
    const { app } = await testApp()
    expect((await app.inject({ url: '/v1/status', remoteAddress: '127.0.0.1' })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/status', remoteAddress: '::1' })).statusCode).toBe(200)
    const remote = await app.inject({ url: '/v1/status', remoteAddress: '10.1.2.3' })
    expect(remote.statusCode).toBe(403)
    expect(remote.json().message).toMatch(/loopback/)
    await app.close()
  })

  it('with tokens, requires one of them from every client', async () => {
    const { app } = await testApp({ adminTokens: ['another-token-abcdefghij', TOKEN] })
    const missing = await app.inject({ url: '/v1/status' })
    expect(missing.statusCode).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="rtroute"')
    expect(missing.json()).toEqual({ error: 'unauthorized', message: 'missing bearer token' })
    const wrong = await app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${TOKEN}x` } })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).not.toContain(TOKEN)
    const ok = await app.inject({ url: '/v1/status', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.statusCode).toBe(200)
    await app.close()
  })

  it('leaves the probes open', async () => {
    const { app } = await testApp({ adminTokens: [TOKEN] })
    expect((await app.inject({ url: '/livez', remoteAddress: '10.1.2.3' })).statusCode).toBe(200)
    expect((await app.inject({ url: '/readyz', remoteAddress: '10.1.2.3' })).statusCode).toBe(200)
    await app.close()
  })
})

describe('error answers', () => {
  it('unknown paths get a JSON 404', async () => {
    const { app } = await testApp()
    const res = await app.inject('/nope?x=1')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ error: 'not_found', message: 'no route GET /nope' })
    await app.close()
  })

  it('broken JSON and oversized bodies are 4xx with a message', async () => {
    const { app } = await testApp({ bodyLimit: 2048 })
    const broken = await app.inject({ method: 'PUT', url: '/v1/status/cron', headers: { 'content-type': 'application/json' }, payload: '{"required": tru' })
    expect(broken.statusCode).toBe(400)
    expect(broken.json().error).toBe('invalid_json')
    const big = await app.inject({ method: 'PUT', url: '/v1/status/cron', payload: { required: true, pad: 'x'.repeat(4096) } })
    expect(big.statusCode).toBe(413)
    expect(big.json().error).toBe('body_too_large')
    await app.close()
  })
})
