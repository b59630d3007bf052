import { describe, expect, it } from 'vitest'
import { parseTextArray, targetsFromText } from '../../../src/routing/snapshot/rule-pages.js'

const names = { gateways: new Map([['11', 'gw-a'], ['12', 'gw-b']]), carriers: new Map([['7', 'cr-x']]) }

describe('targetsFromText', () => {
  it('reads gateways and carriers in order, with their weights', () => {
    expect(targetsFromText('g11:1,c7:40,g12:0', names)).toEqual([{ gateway: 'gw-a', weight: 1 }, { carrier: 'cr-x', weight: 40 }, { gateway: 'gw-b', weight: 0 }])
  })

  it('has no targets for no text', () => {
    expect(targetsFromText(null, names)).toEqual([])
    expect(targetsFromText('', names)).toEqual([])
  })

  it('gives what the former join gave for a row it cannot name', () => {
    expect(targetsFromText('g99:1,c99:2', names)).toEqual([{ carrier: '', weight: 1 }, { carrier: '', weight: 2 }])
  })
})

describe('parseTextArray', () => {
  it.each<[string, Array<string | null>]>([
    ['{}', []],
    ['{default}', ['default']],
    ['{retail,wholesale}', ['retail', 'wholesale']],
    ['{"a b","c,d","e\\"f","g\\\\h",NULL,"NULL",x}', ['a b', 'c,d', 'e"f', 'g\\h', null, 'NULL', 'x']],
    ['{"",y}', ['', 'y']]
  ])('%s', (text, expected) => {
    expect(parseTextArray(text)).toEqual(expected)
  })
})
