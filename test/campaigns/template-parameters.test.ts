// What a synced template needs filled, and the Graph components a filled one is sent with
// (campaigns/template-parameters.ts): a table of Meta's component shapes.
import { describe, expect, it } from 'vitest';
import { fillTemplate, templateShape } from '../../src/campaigns/template-parameters.js';
import { AppError } from '../../src/lib/app-error.js';

const shapeOf = (components: unknown) => templateShape(JSON.stringify(components));

describe('template parameters', () => {
  it.each([
    ['unknown components', null, null],
    ['no parameters', [{ type: 'BODY', text: 'Your order has shipped.' }], []],
    [
      'positional body parameters in number order, with examples',
      [{ type: 'BODY', text: 'Hi {{2}}, order {{1}} ships.', example: { body_text: [['B-12', 'Ana']] } }],
      [
        { component: 'body', name: '1', example: 'B-12' },
        { component: 'body', name: '2', example: 'Ana' },
      ],
    ],
    [
      'a text header and named body parameters, each once',
      [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['B-12'] } },
        {
          type: 'BODY',
          text: 'Hi {{first_name}}, {{first_name}} again: {{city}}',
          example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ana' }] },
        },
      ],
      [
        { component: 'header', name: '1', example: 'B-12' },
        { component: 'body', name: 'first_name', example: 'Ana' },
        { component: 'body', name: 'city', example: null },
      ],
    ],
  ])('%s', (_, components, parameters) => {
    const shape = components === null ? templateShape(null) : shapeOf(components);
    expect(shape?.parameters ?? null).toEqual(parameters);
  });

  it.each([
    [[{ type: 'HEADER', format: 'IMAGE' }], 'its header is an image, which the dashboard cannot attach'],
    [
      [{ type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://x.example/{{1}}' }] }],
      'a button takes a variable, which the dashboard cannot fill',
    ],
  ])('marks what a text form cannot send: %j', (components, reason) => {
    expect(shapeOf(components)?.unsupported).toBe(reason);
  });

  it('keeps a quick-reply button and a footer sendable', () => {
    const shape = shapeOf([
      { type: 'BODY', text: 'Hello' },
      { type: 'FOOTER', text: 'Reply STOP to opt out' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Stop' }] },
    ]);
    expect(shape).toMatchObject({ body: 'Hello', footer: 'Reply STOP to opt out', unsupported: null });
  });

  it('is null for components that are not a list', () => {
    expect(templateShape('{"type":"BODY"}')).toBeNull();
    expect(templateShape('not json')).toBeNull();
  });

  it('fills header and body parameters into Graph components, named ones by name', () => {
    const shape = shapeOf([
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hi {{first_name}}' },
    ]);
    expect(fillTemplate(shape, { 'param.header.1': ' B-12 ', 'param.body.first_name': 'Ana' })).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: 'B-12' }] },
      { type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ana' }] },
    ]);
  });

  it('sends a template without parameters with no components', () => {
    expect(fillTemplate(shapeOf([{ type: 'BODY', text: 'Hello' }]), {})).toBeUndefined();
    expect(fillTemplate(null, {})).toBeUndefined();
  });

  it.each([
    [{}, 'Fill in the body parameter {{1}}.'],
    [{ 'param.body.1': '   ' }, 'Fill in the body parameter {{1}}.'],
    [{ 'param.body.1': 'two\nlines' }, 'must be one line'],
    [{ 'param.body.1': 'x'.repeat(1025) }, 'at most 1024 characters'],
  ])('refuses a missing or malformed value, naming the parameter: %j', (values, message) => {
    const shape = shapeOf([{ type: 'BODY', text: 'Hi {{1}}' }]);
    let err: unknown;
    try {
      fillTemplate(shape, values);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_failed');
    expect((err as AppError).message).toContain(message);
  });
});
