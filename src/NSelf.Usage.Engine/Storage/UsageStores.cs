using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Storage.Sqlite;

namespace NSelf.Usage.Engine.Storage;

/// <summary>Opens the store a <see cref="StoreTarget"/> names.</summary>
public static class UsageStores
{
    /// <summary>
    /// Opens a store whose every failure is a UsageException (no driver exception gets out). Only
    /// the default embedded file may create its folder: a path someone typed or set in
    /// $env:NSELF_USAGE_STORE must name an existing folder, so a typo is an error, not a new empty store.
    /// </summary>
    public static IUsageStore Open(StoreTarget target, TimeProvider time) => target.Backend switch
    {
        UsageStoreBackend.Sqlite => new FailureTranslatingStore(
            new SqliteUsageStore(target.Address, time, createFolder: target.Source == UsageStoreSource.Default), SqliteDialect.Instance.Translate),
        _ => new FailureTranslatingStore(new PostgresUsageStore(target.Address, target.CustomerScope, time), PostgresDialect.Instance.Translate),
    };

    /// <summary>
    /// Where a target's store is, for people: a SQLite file's path, or PostgreSQL's host, port and
    /// database (never the connection string itself, which may hold a password).
    /// </summary>
    public static string Describe(StoreTarget target)
    {
        if (target.Backend == UsageStoreBackend.Sqlite)
            return target.Address;
        try
        {
            return PostgresConnections.Describe(PostgresConnections.Settings(target.Address, target.CustomerScope));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UsageException)
        {
            return "a PostgreSQL server (its connection string cannot be read)";
        }
    }
}
