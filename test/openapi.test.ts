import { describe, expect, it } from 'vitest'
import { testApp } from './helpers/fake-deps.js'

describe('/openapi.json and /docs', () => {
  it('documents every route from its schemas, with bearer security on the admin routes only', async () => {
    const { app } = await testApp({ version: '1.2.3' })
    const res = await app.inject('/openapi.json')
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.info).toMatchObject({ title: 'rtroute', version: '1.2.3' })
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/livez', '/readyz', '/v1/status', '/v1/status/{group}/{identifier}', '/v1/reports']))
    expect(doc.paths['/v1/status/{group}'].put.requestBody.content['application/json'].schema.properties).toHaveProperty('required')
    expect(doc.paths['/openapi.json']).toBeUndefined()
    expect(doc.security).toBeUndefined()
    expect(doc.paths['/livez'].get.security).toBeUndefined()
    expect(doc.paths['/v1/status'].get.security).toEqual([{ bearer: [] }])
    await app.close()
  })

  it('serves the interactive reference without any network', async () => {
    const { app } = await testApp()
    const page = await app.inject('/docs/')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect((await app.inject('/docs/static/swagger-ui-bundle.js')).statusCode).toBe(200)
    await app.close()
  })
})
