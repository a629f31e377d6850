using System.Data.Common;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// A connection (and its transaction, when writing) with the dialect that encodes values for it:
/// the one place shared statements are run.
/// </summary>
internal sealed class SqlSession
{
    public SqlSession(DbConnection connection, DbTransaction? transaction, SqlDialect dialect)
    {
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
    }

    public DbConnection Connection { get; }

    public DbTransaction? Transaction { get; }

    public SqlDialect Dialect { get; }

    public DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            Bind(command, name, value);
        return command;
    }

    public void Bind(DbCommand command, string name, object? value) => command.Parameters.Add(Parameter(command.CreateParameter(), name, value));

    private DbParameter Parameter(DbParameter parameter, string name, object? value)
    {
        parameter.ParameterName = name;
        parameter.Value = Dialect.Encode(value);
        return parameter;
    }

    public List<T> Query<T>(string sql, Func<SqlRow, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return Read(command, read);
    }

    /// <summary>Interrupts the command's statement when the running PowerShell command is stopped (see <see cref="StoreCancellation"/>).</summary>
    public CancellationTokenRegistration Stoppable(DbCommand command) => StoreCancellation.Interrupting(command, Dialect.Interrupt);

    public List<T> Read<T>(DbCommand command, Func<SqlRow, T> read)
    {
        var stopped = StoreCancellation.Current;
        using var stop = Stoppable(command);
        using var reader = command.ExecuteReader();
        var row = new SqlRow(reader, Dialect);
        var list = new List<T>();
        while (reader.Read())
        {
            // Rows the server sent before it heard the cancel still arrive: read on, they would keep
            // a stopped command busy for as long as the whole result takes to read.
            stopped.ThrowIfCancellationRequested();
            list.Add(read(row));
        }
        return list;
    }

    /// <summary>The rows one at a time, as the caller reads them, for results that need not fit in memory.</summary>
    public IEnumerable<T> Stream<T>(string sql, Func<SqlRow, T> read, params (string Name, object? Value)[] parameters)
    {
        var stopped = StoreCancellation.Current;
        using var command = Command(sql, parameters);
        using var stop = Stoppable(command);
        var reader = command.ExecuteReader();
        var finished = false;
        try
        {
            var row = new SqlRow(reader, Dialect);
            while (reader.Read())
            {
                // As in Read: a cancel stops the server, not the rows already on their way.
                stopped.ThrowIfCancellationRequested();
                yield return read(row);
            }
            finished = true;
        }
        finally
        {
            // A reader left before its end (Select-Object -First, a stopped export): Npgsql's
            // Dispose would read every remaining row of the result, so the query is cancelled first,
            // and the failure the cancelled query reports on the way out is the one asked for.
            if (!finished)
                Dialect.Abandon(command);
            try
            {
                reader.Dispose();
            }
            catch (DbException) when (!finished)
            {
            }
        }
    }

    public object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var stop = Stoppable(command);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public long Count(string sql, params (string Name, object? Value)[] parameters) =>
        Convert.ToInt64(Scalar(sql, parameters), System.Globalization.CultureInfo.InvariantCulture);

    public int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var stop = Stoppable(command);
        return command.ExecuteNonQuery();
    }

    /// <summary>
    /// Runs one statement once per item and returns each run's row count. A driver that batches
    /// (Npgsql) gets them in one round trip, as a check raising alerts for a thousand customers
    /// would otherwise wait a thousand times; SQLite, in process, re-runs one prepared command.
    /// </summary>
    public List<int> ExecuteEach<T>(string sql, IReadOnlyList<T> items, Func<T, (string Name, object? Value)[]> parameters)
    {
        if (Connection.CanCreateBatch)
        {
            using var batch = Connection.CreateBatch();
            batch.Transaction = Transaction;
            foreach (var item in items)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = sql;
                foreach (var (name, value) in parameters(item))
                    command.Parameters.Add(Parameter(command.CreateParameter(), name, value));
                batch.BatchCommands.Add(command);
            }
            StoreCancellation.ThrowIfStopped();
            batch.ExecuteNonQuery();
            return batch.BatchCommands.Select(c => c.RecordsAffected).ToList();
        }
        var stopped = StoreCancellation.Current;
        using var single = Command(sql);
        using var stop = Stoppable(single);
        var counts = new List<int>(items.Count);
        foreach (var item in items)
        {
            // An interrupt that comes between two runs finds no statement running and is lost.
            stopped.ThrowIfCancellationRequested();
            single.Parameters.Clear();
            foreach (var (name, value) in parameters(item))
                Bind(single, name, value);
            counts.Add(single.ExecuteNonQuery());
        }
        return counts;
    }
}

/// <summary>The current row of a reader, its values decoded by the dialect.</summary>
internal readonly struct SqlRow
{
    private readonly DbDataReader _reader;
    private readonly SqlDialect _dialect;

    public SqlRow(DbDataReader reader, SqlDialect dialect)
    {
        _reader = reader;
        _dialect = dialect;
    }

    public bool IsNull(int i) => _reader.IsDBNull(i);

    /// <summary>A value of a type the driver reads directly (an array, for one).</summary>
    public T Value<T>(int i) => _reader.GetFieldValue<T>(i);

    public string Text(int i) => _reader.GetString(i);

    public string? TextOrNull(int i) => _reader.IsDBNull(i) ? null : _reader.GetString(i);

    public int Int(int i) => Convert.ToInt32(_reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);

    public long Long(int i) => Convert.ToInt64(_reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);

    public long? LongOrNull(int i) => _reader.IsDBNull(i) ? null : Long(i);

    public bool Bool(int i) => _dialect.ReadBool(_reader, i);

    public DateTimeOffset Time(int i) => _dialect.ReadTime(_reader, i);

    public DateTimeOffset? TimeOrNull(int i) => _reader.IsDBNull(i) ? null : _dialect.ReadTime(_reader, i);

    public decimal Money(int i) => _dialect.ReadMoney(_reader, i);

    public decimal? MoneyOrNull(int i) => _reader.IsDBNull(i) ? null : _dialect.ReadMoney(_reader, i);

    public decimal Quantity(int i) => _dialect.ReadQuantity(_reader, i);

    public decimal? QuantityOrNull(int i) => _reader.IsDBNull(i) ? null : _dialect.ReadQuantity(_reader, i);

    public DateTime LocalTime(int i) => _dialect.ReadLocalTime(_reader, i);
}
