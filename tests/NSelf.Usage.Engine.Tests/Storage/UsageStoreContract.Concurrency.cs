using System.Collections.Concurrent;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Exactly once under concurrency: several hosts write one store at the same time, each with two
/// chunks in flight (as a pipeline does, decision 53), in chunks of every size a pipeline makes
/// (one event, a small unnest batch, a COPY-sized chunk), with ids that other hosts send too and
/// chunks a host sends again, to customers no one has registered yet. Every id must be stored
/// once, every rollup must agree with the raw events, and the stores' own accounting (inserted,
/// duplicates) must add up. A failure names the seed, the missing or extra ids and the chunk
/// each missing id was sent in.
/// </summary>
public abstract partial class UsageStoreContract
{
    private const int Writers = 4;
    private const int LanesPerWriter = 2;
    private const int OwnIdsPerWriter = 1200;
    private const int SharedIds = 400;

    /// <summary>The seed of a round; NSELF_TEST_SEED replays a failure's seed.</summary>
    private static int StressSeed(int round) =>
        int.TryParse(Environment.GetEnvironmentVariable("NSELF_TEST_SEED"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seed)
            ? seed + round
            : 1400 + round;

    [SkippableFact]
    public async Task ConcurrentHosts_WithSharedAndResentIds_StoreEachIdExactlyOnce()
    {
        // Handles opened before anything touched the store: the first writes race the migrations too.
        var hosts = Enumerable.Range(0, Writers).Select(_ => Open()).ToList();
        var expected = new Dictionary<(string Customer, string EventId), UsageEvent>();
        for (var round = 0; round < 3; round++)
            await StressRound(hosts, round, StressSeed(round), expected);
    }

    private async Task StressRound(IReadOnlyList<IUsageStore> hosts, int round, int seed, Dictionary<(string Customer, string EventId), UsageEvent> expected)
    {
        var start = Clock.Utc(2026, 11, 2).AddDays(round);
        var factories = await Task.WhenAll(hosts.Select(h => Task.Run(() => new UsageEventFactory(h.GetServices(), Time))));
        // The same id is always the same event (customer, service, time, quantity), whoever sends it:
        // a repeat is a true duplicate. New customers each round, so registration races every round.
        UsageEvent Make(UsageEventFactory factory, string id, int n) =>
            factory.Create($"cus_r{round}_{n % 5}", (n % 3) switch { 0 => "api", 1 => "database", _ => "storage" },
                (n % 7) + 0.5m, start.AddSeconds(n * 7 % 86_000), id);

        var random = new Random(seed);
        var plans = new List<List<UsageEvent[]>>();
        for (var w = 0; w < Writers; w++)
        {
            var sends = new List<UsageEvent>();
            for (var i = 0; i < OwnIdsPerWriter; i++)
                sends.Add(Make(factories[w], $"r{round}-w{w}-{i}", w * OwnIdsPerWriter + i));
            for (var k = 0; k < SharedIds; k++)
                sends.Add(Make(factories[w], $"r{round}-shared-{k}", k * 11));
            sends = sends.OrderBy(_ => random.Next()).ToList();
            var chunks = Split(sends, random);
            // A tenth of the chunks is sent again later (a retried pipeline, a resent batch).
            foreach (var again in chunks.Where(_ => random.Next(10) == 0).ToList())
                chunks.Insert(random.Next(chunks.IndexOf(again) + 1, chunks.Count + 1), again);
            plans.Add(chunks);
            foreach (var e in sends)
                expected[(e.CustomerId, e.EventId)] = e;
        }

        var results = new ConcurrentBag<IngestResult>();
        var failures = new ConcurrentBag<string>();
        var lanes = Enumerable.Range(0, Writers).SelectMany(w =>
        {
            var queue = new ConcurrentQueue<UsageEvent[]>(plans[w]);
            return Enumerable.Range(0, LanesPerWriter).Select(_ => Task.Run(() =>
            {
                while (queue.TryDequeue(out var chunk))
                {
                    try
                    {
                        results.Add(hosts[w].Ingest(chunk));
                    }
                    catch (UsageException e)
                    {
                        failures.Add($"host {w}, chunk of {chunk.Length} from {chunk[0].EventId}: {e.ErrorId} {e.Message}");
                    }
                }
            }));
        }).ToArray();
        await Task.WhenAll(lanes);

        var context = $"round {round}, seed {seed} (replay with NSELF_TEST_SEED={seed - round})";
        Assert.True(failures.IsEmpty, $"{context}: a write failed: {string.Join("; ", failures.Take(5))}");
        var stored = Store.ReadRecords(new RecordQuery(new UsageFilter(null), null, null)).ToList();
        var storedKeys = stored.Select(r => (r.CustomerId, r.EventId)).ToList();
        var twice = storedKeys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var missing = expected.Keys.Except(storedKeys).OrderBy(k => k.EventId, StringComparer.Ordinal).ToList();
        var extra = storedKeys.Except(expected.Keys).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && twice.Count == 0,
            $"{context}: {expected.Count} ids sent, {stored.Count} rows stored. Missing {missing.Count}: {Describe(missing, plans)}. "
            + $"Extra {extra.Count}: {string.Join(", ", extra.Take(10))}. Stored twice {twice.Count}: {string.Join(", ", twice.Take(10))}.");
        foreach (var record in stored)
        {
            var sent = expected[(record.CustomerId, record.EventId)];
            Assert.True((sent.Service, sent.Quantity, sent.Timestamp) == (record.Service, record.Quantity, record.Timestamp), $"{context}: {record.EventId} was stored as {record.Service} {record.Quantity} at {record.Timestamp:O}");
        }

        // The store's accounting: every id inserted once over all chunks, every other send a duplicate.
        var thisRound = plans.SelectMany(p => p).Sum(c => c.Length);
        var roundIds = plans.SelectMany(p => p).SelectMany(c => c).Select(e => (e.CustomerId, e.EventId)).Distinct().Count();
        var all = results.ToList();
        Assert.True(all.All(r => r.Rejected.Count == 0), $"{context}: events were rejected");
        Assert.True((roundIds, thisRound - roundIds) == (all.Sum(r => r.Inserted), all.Sum(r => r.Duplicates)),
            $"{context}: {roundIds} new ids in {thisRound} sends, but the store reported {all.Sum(r => r.Inserted)} inserted and {all.Sum(r => r.Duplicates)} duplicates");

        // The rollups (quarter hours and days) agree with the raw events, customer by customer and service by service.
        var fromRecords = stored.GroupBy(r => (r.CustomerId, r.Service)).ToDictionary(g => g.Key, g => (Events: (long)g.Count(), Quantity: g.Sum(r => r.Quantity)));
        var through = start.AddDays(1);
        var fromRollups = Summaries(null, Clock.Utc(2026, 11, 1), through).ToDictionary(s => (s.CustomerId, s.Service), s => (s.Events, s.Quantity));
        Assert.Equal(fromRecords.OrderBy(p => p.Key).ToList(), fromRollups.OrderBy(p => p.Key).ToList());
        var daily = Store.SumRollups(new UsageFilter(null), new[] { new TimeSlice(0, Clock.Utc(2026, 11, 1), through) }, RollupGrain.Day);
        Assert.Equal(stored.Count, daily.Sum(t => t.Events));
    }

    /// <summary>Random chunk sizes: one event, a small batch, and chunks big enough for a bulk path.</summary>
    private static List<UsageEvent[]> Split(List<UsageEvent> events, Random random)
    {
        var chunks = new List<UsageEvent[]>();
        for (var at = 0; at < events.Count;)
        {
            var size = random.Next(10) switch { 0 => 1, < 5 => random.Next(2, 64), _ => random.Next(64, 700) };
            size = Math.Min(size, events.Count - at);
            chunks.Add(events.GetRange(at, size).ToArray());
            at += size;
        }
        return chunks;
    }

    private static string Describe(IReadOnlyList<(string Customer, string EventId)> missing, List<List<UsageEvent[]>> plans) =>
        string.Join(", ", missing.Take(20).Select(key =>
        {
            var chunks = plans.SelectMany((p, w) => p.Select(c => (Host: w, Chunk: c))).Where(x => x.Chunk.Any(e => e.CustomerId == key.Customer && e.EventId == key.EventId))
                .Select(x => $"host {x.Host} chunk of {x.Chunk.Length}");
            return $"{key.Customer}/{key.EventId} (sent in {string.Join(" and ", chunks)})";
        }));
}
