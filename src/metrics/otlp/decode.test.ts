import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { otlpDescriptor } from '../../../scripts/otlp-proto.js';
import { decodeRequest, encodeRequest, encodeResponse } from './decode.js';
import { OTLP_METRICS_DESCRIPTOR } from './proto/descriptor.js';

const request = {
  resourceMetrics: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'shop' } },
          { key: 'k8s.pod.ordinal', value: { intValue: '3' } },
          { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }] } } },
        ],
      },
      scopeMetrics: [
        {
          metrics: [
            {
              name: 'jobs.duration',
              unit: 's',
              exponentialHistogram: {
                aggregationTemporality: 1,
                dataPoints: [
                  {
                    startTimeUnixNano: '1767261600000000000',
                    timeUnixNano: '1767261660123456789',
                    count: '5',
                    sum: 1.5,
                    min: 0.1,
                    max: 0.6,
                    scale: 4,
                    zeroCount: '1',
                    positive: { offset: -40, bucketCounts: ['3', '0', '1'] },
                  },
                ],
              },
            },
            {
              name: 'queue.depth',
              gauge: { dataPoints: [{ asInt: '12', timeUnixNano: '1767261660000000000' }] },
            },
          ],
        },
      ],
    },
  ],
};

describe('OTLP bodies', () => {
  test('the vendored descriptor is what the vendored .proto files say', () => {
    assert.equal(JSON.stringify(OTLP_METRICS_DESCRIPTOR), JSON.stringify(otlpDescriptor()));
  });

  test('protobuf and JSON decode to the same request', () => {
    const fromJson = decodeRequest(Buffer.from(JSON.stringify(request)), 'json');
    const fromProto = decodeRequest(encodeRequest(request), 'protobuf');
    assert.deepEqual(fromProto, fromJson);
    const rm = fromJson.resourceMetrics[0]!;
    assert.deepEqual(rm.resource, { 'service.name': 'shop', 'k8s.pod.ordinal': '3', tags: '["a","true"]' });
    const h = rm.metrics[0]!.data;
    assert.equal(h.kind, 'exponentialHistogram');
    if (h.kind !== 'exponentialHistogram') return;
    assert.equal(h.points[0]!.time, 1767261660123.4568);
    assert.equal(h.points[0]!.count, 5);
    assert.deepEqual(h.points[0]!.positive, { offset: -40, counts: [3, 0, 1] });
    assert.deepEqual(h.points[0]!.negative, { offset: 0, counts: [] });
    const g = rm.metrics[1]!.data;
    assert.equal(g.kind === 'gauge' && g.points[0]!.value, 12);
  });

  test('fields of the wrong type are named', () => {
    const bad = (body: unknown) => () => decodeRequest(Buffer.from(JSON.stringify(body)), 'json');
    assert.throws(bad([]), /body: must be an ExportMetricsServiceRequest object/);
    assert.throws(
      bad({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  { name: 'h', histogram: { dataPoints: [{ bucketCounts: [1, 2], explicitBounds: [] }] } },
                ],
              },
            ],
          },
        ],
      }),
      /resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.histogram\.dataPoints\[0\]\.bucketCounts: must have one more entry than explicitBounds/,
    );
    assert.throws(
      bad({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ asDouble: 'x' }] } }] }] },
        ],
      }),
      /gauge\.dataPoints\[0\]\.asDouble: must be a number/,
    );
  });

  test('the answer: empty when everything was taken, a partial success otherwise', () => {
    assert.deepEqual(encodeResponse('json', null), {});
    assert.equal((encodeResponse('protobuf', null) as Buffer).length, 0);
    assert.deepEqual(encodeResponse('json', { rejectedDataPoints: 2, errorMessage: 'x' }), {
      partialSuccess: { rejectedDataPoints: 2, errorMessage: 'x' },
    });
  });
});
