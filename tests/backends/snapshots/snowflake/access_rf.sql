SELECT
  "t10"."r_order",
  "t10"."r_band",
  "t10"."f_order",
  "t10"."f_band",
  "t10"."customers",
  "t10"."buyers",
  CAST(FLOOR(
    (
      (
        CAST("t10"."buyers" AS DOUBLE) / NULLIF("t10"."customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "buyer_rate"
FROM (
  SELECT
    "t9"."r_order",
    "t9"."r_band",
    "t9"."f_order",
    "t9"."f_band",
    COUNT("t9"."customer_id") AS "customers",
    COUNT("t9"."buyer") AS "buyers"
  FROM (
    SELECT
      "t8"."customer_id",
      "t8"."last_visit",
      "t8"."visit_days",
      "t8"."access_recency_days",
      "t8"."r_order",
      "t8"."r_band",
      "t8"."f_order",
      "t8"."f_band",
      "t4"."buyer"
    FROM (
      SELECT
        "t6"."customer_id",
        "t6"."last_visit",
        "t6"."visit_days",
        "t6"."access_recency_days",
        CASE
          WHEN "t6"."access_recency_days" <= 7
          THEN 0
          WHEN "t6"."access_recency_days" <= 30
          THEN 1
          WHEN "t6"."access_recency_days" <= 90
          THEN 2
          WHEN "t6"."access_recency_days" <= 180
          THEN 3
          ELSE 4
        END AS "r_order",
        CASE
          WHEN CASE
            WHEN "t6"."access_recency_days" <= 7
            THEN 0
            WHEN "t6"."access_recency_days" <= 30
            THEN 1
            WHEN "t6"."access_recency_days" <= 90
            THEN 2
            WHEN "t6"."access_recency_days" <= 180
            THEN 3
            ELSE 4
          END = 0
          THEN '0-7'
          WHEN CASE
            WHEN "t6"."access_recency_days" <= 7
            THEN 0
            WHEN "t6"."access_recency_days" <= 30
            THEN 1
            WHEN "t6"."access_recency_days" <= 90
            THEN 2
            WHEN "t6"."access_recency_days" <= 180
            THEN 3
            ELSE 4
          END = 1
          THEN '8-30'
          WHEN CASE
            WHEN "t6"."access_recency_days" <= 7
            THEN 0
            WHEN "t6"."access_recency_days" <= 30
            THEN 1
            WHEN "t6"."access_recency_days" <= 90
            THEN 2
            WHEN "t6"."access_recency_days" <= 180
            THEN 3
            ELSE 4
          END = 2
          THEN '31-90'
          WHEN CASE
            WHEN "t6"."access_recency_days" <= 7
            THEN 0
            WHEN "t6"."access_recency_days" <= 30
            THEN 1
            WHEN "t6"."access_recency_days" <= 90
            THEN 2
            WHEN "t6"."access_recency_days" <= 180
            THEN 3
            ELSE 4
          END = 3
          THEN '91-180'
          WHEN CASE
            WHEN "t6"."access_recency_days" <= 7
            THEN 0
            WHEN "t6"."access_recency_days" <= 30
            THEN 1
            WHEN "t6"."access_recency_days" <= 90
            THEN 2
            WHEN "t6"."access_recency_days" <= 180
            THEN 3
            ELSE 4
          END = 4
          THEN '181+'
          ELSE NULL
        END AS "r_band",
        CASE
          WHEN "t6"."visit_days" <= 1
          THEN 0
          WHEN "t6"."visit_days" <= 4
          THEN 1
          WHEN "t6"."visit_days" <= 9
          THEN 2
          ELSE 3
        END AS "f_order",
        CASE
          WHEN CASE
            WHEN "t6"."visit_days" <= 1
            THEN 0
            WHEN "t6"."visit_days" <= 4
            THEN 1
            WHEN "t6"."visit_days" <= 9
            THEN 2
            ELSE 3
          END = 0
          THEN '0-1'
          WHEN CASE
            WHEN "t6"."visit_days" <= 1
            THEN 0
            WHEN "t6"."visit_days" <= 4
            THEN 1
            WHEN "t6"."visit_days" <= 9
            THEN 2
            ELSE 3
          END = 1
          THEN '2-4'
          WHEN CASE
            WHEN "t6"."visit_days" <= 1
            THEN 0
            WHEN "t6"."visit_days" <= 4
            THEN 1
            WHEN "t6"."visit_days" <= 9
            THEN 2
            ELSE 3
          END = 2
          THEN '5-9'
          WHEN CASE
            WHEN "t6"."visit_days" <= 1
            THEN 0
            WHEN "t6"."visit_days" <= 4
            THEN 1
            WHEN "t6"."visit_days" <= 9
            THEN 2
            ELSE 3
          END = 3
          THEN '10+'
          ELSE NULL
        END AS "f_band"
      FROM (
        SELECT
          "t5"."customer_id",
          "t5"."last_visit",
          "t5"."visit_days",
          DATEDIFF(DAY, "t5"."last_visit", DATE_FROM_PARTS(2026, 10, 31)) AS "access_recency_days"
        FROM (
          SELECT
            "t2"."customer_id",
            MAX("t2"."day") AS "last_visit",
            COUNT(
              DISTINCT IFF(DATEDIFF(DAY, "t2"."day", DATE_FROM_PARTS(2026, 10, 31)) < 90, "t2"."day", NULL)
            ) AS "visit_days"
          FROM (
            SELECT
              "t1"."event_id",
              "t1"."occurred_at",
              "t1"."event_type",
              "t1"."anonymous_id",
              "t1"."customer_id",
              "t1"."session_id",
              "t1"."product_id",
              "t1"."category",
              "t1"."search_query",
              "t1"."page_url",
              "t1"."referrer",
              "t1"."quantity",
              "t1"."source",
              TO_DATE(DATEADD(HOUR, '9', "t1"."occurred_at")) AS "day"
            FROM "web_events" AS "t1"
            WHERE
              "t1"."customer_id" IS NOT NULL
              AND TO_DATE(DATEADD(HOUR, '9', "t1"."occurred_at")) <= DATE_FROM_PARTS(2026, 10, 31)
          ) AS "t2"
          GROUP BY
            1
        ) AS "t5"
      ) AS "t6"
    ) AS "t8"
    LEFT OUTER JOIN (
      SELECT DISTINCT
        "t0"."customer_id" AS "buyer"
      FROM "orders" AS "t0"
      WHERE
        "t0"."status" = 'completed'
        AND "t0"."customer_id" IS NOT NULL
        AND "t0"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
        AND DATEDIFF(DAY, TO_DATE(DATEADD(HOUR, '9', "t0"."ordered_at")), DATE_FROM_PARTS(2026, 10, 31)) < 90
    ) AS "t4"
      ON "t8"."customer_id" = "t4"."buyer"
  ) AS "t9"
  GROUP BY
    1,
    2,
    3,
    4
) AS "t10"
ORDER BY
  "t10"."r_order" ASC,
  "t10"."f_order" ASC
