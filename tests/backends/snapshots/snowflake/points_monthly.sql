SELECT
  "t3"."month",
  "t3"."earned",
  "t3"."used",
  "t3"."expired",
  "t3"."adjusted",
  "t3"."net",
  "t3"."customers",
  "t3"."balance",
  CAST(FLOOR(
    (
      (
        CAST("t3"."used" AS DOUBLE) / NULLIF("t3"."earned", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "usage_rate"
FROM (
  SELECT
    "t2"."month",
    "t2"."earned",
    "t2"."used",
    "t2"."expired",
    "t2"."adjusted",
    "t2"."net",
    "t2"."customers",
    SUM("t2"."net") OVER (ORDER BY "t2"."month" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "balance"
  FROM (
    SELECT
      "t1"."month",
      SUM(IFF("t1"."kind" = 'earn', "t1"."points", 0)) AS "earned",
      -(
        SUM(IFF("t1"."kind" = 'use', "t1"."points", 0))
      ) AS "used",
      -(
        SUM(IFF("t1"."kind" = 'expire', "t1"."points", 0))
      ) AS "expired",
      SUM(IFF("t1"."kind" = 'adjust', "t1"."points", 0)) AS "adjusted",
      SUM("t1"."points") AS "net",
      COUNT(DISTINCT "t1"."customer_id") AS "customers"
    FROM (
      SELECT
        "t0"."transaction_id",
        "t0"."customer_id",
        "t0"."occurred_at",
        "t0"."kind",
        "t0"."points",
        "t0"."expires_on",
        "t0"."order_id",
        "t0"."reason",
        TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at")) AS "day",
        DATE_TRUNC('MONTH', TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at"))) AS "month"
      FROM "point_transactions" AS "t0"
      WHERE
        TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at")) <= DATE_FROM_PARTS(2026, 10, 31)
    ) AS "t1"
    GROUP BY
      1
  ) AS "t2"
) AS "t3"
ORDER BY
  "t3"."month" ASC
