SELECT
  "t7"."month",
  "t7"."visitors",
  "t7"."known_visitors",
  "t7"."product_viewers",
  "t7"."cart_adders",
  "t7"."buyers",
  CAST(FLOOR(
    (
      (
        CAST("t7"."product_viewers" AS DOUBLE) / NULLIF("t7"."visitors", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "view_rate",
  CAST(FLOOR(
    (
      (
        CAST("t7"."cart_adders" AS DOUBLE) / NULLIF("t7"."visitors", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "cart_rate",
  CAST(FLOOR(
    (
      (
        CAST("t7"."buyers" AS DOUBLE) / NULLIF("t7"."known_visitors", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "known_buyer_rate"
FROM (
  SELECT
    "t6"."month",
    COUNT(DISTINCT "t6"."visitor") AS "visitors",
    COUNT(DISTINCT "t6"."customer_id") AS "known_visitors",
    COUNT(DISTINCT IFF("t6"."event_type" = 'product_view', "t6"."visitor", NULL)) AS "product_viewers",
    COUNT(DISTINCT IFF("t6"."event_type" = 'cart_add', "t6"."visitor", NULL)) AS "cart_adders",
    COUNT(DISTINCT "t6"."buyer") AS "buyers"
  FROM (
    SELECT
      "t4"."event_id",
      "t4"."occurred_at",
      "t4"."event_type",
      "t4"."anonymous_id",
      "t4"."customer_id",
      "t4"."session_id",
      "t4"."product_id",
      "t4"."category",
      "t4"."search_query",
      "t4"."page_url",
      "t4"."referrer",
      "t4"."quantity",
      "t4"."source",
      "t4"."day",
      "t4"."visitor",
      "t4"."month",
      "t5"."buyer",
      "t5"."order_month"
    FROM (
      SELECT
        "t0"."event_id",
        "t0"."occurred_at",
        "t0"."event_type",
        "t0"."anonymous_id",
        "t0"."customer_id",
        "t0"."session_id",
        "t0"."product_id",
        "t0"."category",
        "t0"."search_query",
        "t0"."page_url",
        "t0"."referrer",
        "t0"."quantity",
        "t0"."source",
        TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at")) AS "day",
        COALESCE("t0"."customer_id", "t0"."anonymous_id") AS "visitor",
        DATE_TRUNC('MONTH', TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at"))) AS "month"
      FROM "web_events" AS "t0"
      WHERE
        TO_DATE(DATEADD(HOUR, '9', "t0"."occurred_at")) <= DATE_FROM_PARTS(2026, 10, 31)
        AND COALESCE("t0"."customer_id", "t0"."anonymous_id") IS NOT NULL
    ) AS "t4"
    LEFT OUTER JOIN (
      SELECT DISTINCT
        "t1"."customer_id" AS "buyer",
        DATE_TRUNC('MONTH', TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at"))) AS "order_month"
      FROM "orders" AS "t1"
      WHERE
        "t1"."status" = 'completed'
        AND "t1"."customer_id" IS NOT NULL
        AND "t1"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
    ) AS "t5"
      ON "t4"."customer_id" = "t5"."buyer" AND "t4"."month" = "t5"."order_month"
  ) AS "t6"
  GROUP BY
    1
) AS "t7"
ORDER BY
  "t7"."month" ASC
