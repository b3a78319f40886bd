using System.Buffers;
using System.Text;
using SensorHub.Server.Mqtt;

namespace SensorHub.Tests.Mqtt;

/// <summary>The payload formats, one by one, without a broker: what becomes a reading, and why the rest does not.</summary>
public sealed class MqttPayloadParserTests
{
    private static readonly DateTime s_now = new(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc);

    private static ParsedMessage Parse(string topic, string payload, MqttIngestOptions? options = null) =>
        new MqttPayloadParser(options ?? new MqttIngestOptions { StripPrefix = "sensors/" })
            .Parse(topic, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)), s_now);

    [Theory]
    [InlineData("21.5", 21.5)]
    [InlineData(" -3e2 \r\n", -300)]
    [InlineData("7", 7)]
    [InlineData("NaN", double.NaN)]
    public void ABareNumberIsReadInTheInvariantCultureWithoutATime(string payload, double value)
    {
        var parsed = Parse("sensors/a/b", payload);

        var reading = Assert.Single(parsed.Readings);
        Assert.Equal("a/b", reading.SensorId);
        Assert.Equal(value, reading.Value);
        Assert.Null(reading.Timestamp);
    }

    [Theory]
    [InlineData("21,5")]
    [InlineData("1,000")]
    [InlineData("0x10")]
    [InlineData("warm")]
    [InlineData("")]
    [InlineData("   ")]
    public void WhatIsNotANumberIsABadPayload(string payload) =>
        Assert.Equal(MqttOutcome.BadPayload, Parse("sensors/a", payload).Outcome);

    [Fact]
    public void ATopicOutsideThePrefixKeepsItsWholeName() =>
        Assert.Equal("other/a", Assert.Single(Parse("other/a", "1").Readings).SensorId);

    [Theory]
    [InlineData("sensors/")]
    [InlineData("sensors/a b")]
    [InlineData("sensors//a")]
    [InlineData("sensors/temp°C")]
    public void ATopicThatMakesNoValidSensorIdIsCountedAsSuch(string topic) =>
        Assert.Equal(MqttOutcome.InvalidSensorId, Parse(topic, "1").Outcome);

    [Theory]
    [InlineData("""{"value": 1.5, "timestamp": "2026-11-30T09:00:00+01:00"}""", "2026-11-30T08:00:00Z")]
    [InlineData("""{"value": 1.5, "timestamp": "2026-11-30T08:00:00"}""", "2026-11-30T08:00:00Z")]
    [InlineData("""{"value": 1.5, "timestamp": 1796025600}""", "2026-11-30T08:00:00Z")]
    public void AJsonTimestampIsIsoOrUnixSecondsAndAlwaysUtc(string payload, string expected)
    {
        var reading = Assert.Single(Parse("sensors/a", payload).Readings);

        Assert.Equal(DateTime.Parse(expected, null, System.Globalization.DateTimeStyles.AdjustToUniversal), reading.Timestamp);
        Assert.Equal(DateTimeKind.Utc, reading.Timestamp!.Value.Kind);
    }

    [Theory]
    [InlineData("""{"value": 1, "timestamp": null}""")]
    [InlineData("""{"value": 1}""")]
    public void AJsonObjectWithoutATimestampTakesNone(string payload) =>
        Assert.Null(Assert.Single(Parse("sensors/a", payload).Readings).Timestamp);

    [Theory]
    [InlineData("""{"val": 1}""")]
    [InlineData("""{"value": "1"}""")]
    [InlineData("""{"value": null}""")]
    [InlineData("""{"value": 1, "timestamp": "soon"}""")]
    [InlineData("""{"value": 1, "timestamp": true}""")]
    [InlineData("""{"value": 1, "timestamp": -5}""")]
    [InlineData("""{"value": 1""")]
    [InlineData("""{"value": 1} trailing""")]
    public void AJsonObjectWithoutANumericValueOrWithABadTimeIsABadPayload(string payload)
    {
        var parsed = Parse("sensors/a", payload);

        Assert.Equal(MqttOutcome.BadPayload, parsed.Outcome);
        Assert.False(string.IsNullOrEmpty(parsed.Problem));
    }

    [Fact]
    public void SenMLBaseFieldsApplyToLaterRecordsAndSmallTimesAreRelativeToNow()
    {
        var parsed = Parse("sensors/dev", """
            [
              {"bn": "urn-dev-1/", "bt": 1796032800, "bv": 100, "n": "a", "v": 1},
              {"n": "b", "v": 2, "t": -60},
              {"bn": "", "bt": 0, "bv": 0, "n": "c", "v": 3, "t": -30},
              {"v": 4},
              {"n": "flag", "vb": true},
              {"bn": "ignored-without-a-value/"}
            ]
            """);

        Assert.True(parsed.IsValid, parsed.Problem);
        Assert.Equal(["dev/urn-dev-1/a", "dev/urn-dev-1/b", "dev/c", "dev"], parsed.Readings.Select(r => r.SensorId));
        Assert.Equal([101.0, 102, 3, 4], parsed.Readings.Select(r => r.Value));
        Assert.Equal(
            [DateTime.UnixEpoch.AddSeconds(1796032800), DateTime.UnixEpoch.AddSeconds(1796032740), s_now.AddSeconds(-30), s_now],
            parsed.Readings.Select(r => r.Timestamp));
    }

    [Theory]
    [InlineData("[]", MqttOutcome.BadPayload)]
    [InlineData("""[{"n": "s", "vs": "text"}]""", MqttOutcome.BadPayload)]
    [InlineData("""[{"n": "a", "v": "1"}]""", MqttOutcome.BadPayload)]
    [InlineData("""[{"n": 5, "v": 1}]""", MqttOutcome.BadPayload)]
    [InlineData("""[1, 2]""", MqttOutcome.BadPayload)]
    [InlineData("""[{"n": "a", "v": 1, "t": 1e300}]""", MqttOutcome.BadPayload)]
    [InlineData("""[{"n": "urn:dev:1", "v": 1}]""", MqttOutcome.InvalidSensorId)]
    public void SenMLThatHoldsNoNumericReadingOrABadRecordIsSkippedWhole(string payload, string outcome) =>
        Assert.Equal(outcome, Parse("sensors/dev", payload).Outcome);

    [Fact]
    public void SenMLCanBeSwitchedOff() =>
        Assert.Equal(MqttOutcome.BadPayload, Parse("sensors/dev", """[{"v": 1}]""", new MqttIngestOptions { SenML = false }).Outcome);
}
