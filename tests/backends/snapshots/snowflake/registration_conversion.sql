SELECT
  "t10"."month",
  "t10"."registered",
  "t10"."buyers",
  "t10"."buyers_within",
  "t10"."median_days_to_first",
  CAST(FLOOR(
    (
      (
        CAST("t10"."buyers_within" AS DOUBLE) / NULLIF("t10"."registered", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "conversion_rate",
  CAST(FLOOR(
    (
      (
        CAST("t10"."buyers" AS DOUBLE) / NULLIF("t10"."registered", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "buyer_rate"
FROM (
  SELECT
    "t9"."month",
    COUNT("t9"."customer_id") AS "registered",
    COUNT("t9"."first_order") AS "buyers",
    SUM("t9"."within") AS "buyers_within",
    MEDIAN("t9"."gap") AS "median_days_to_first"
  FROM (
    SELECT
      "t8"."customer_id",
      "t8"."email",
      "t8"."name",
      "t8"."name_kana",
      "t8"."gender",
      "t8"."birth_date",
      "t8"."prefecture",
      "t8"."postal_code",
      "t8"."address1",
      "t8"."address2",
      "t8"."phone",
      "t8"."registered_at",
      "t8"."rank",
      "t8"."email_opt_in",
      "t8"."line_opt_in",
      "t8"."dm_opt_in",
      "t8"."push_opt_in",
      "t8"."line_user_id",
      "t8"."time_zone",
      "t8"."acquisition_channel",
      "t8"."updated_at",
      "t8"."registered_on",
      "t8"."buyer",
      "t8"."first_order",
      DATE_TRUNC('MONTH', "t8"."registered_on") AS "month",
      IFF(
        (
          "t8"."first_order" IS NOT NULL
        )
        AND (
          DATEDIFF(DAY, "t8"."registered_on", "t8"."first_order") <= 30
        ),
        1,
        0
      ) AS "within",
      DATEDIFF(DAY, "t8"."registered_on", "t8"."first_order") AS "gap"
    FROM (
      SELECT
        "t4"."customer_id",
        "t4"."email",
        "t4"."name",
        "t4"."name_kana",
        "t4"."gender",
        "t4"."birth_date",
        "t4"."prefecture",
        "t4"."postal_code",
        "t4"."address1",
        "t4"."address2",
        "t4"."phone",
        "t4"."registered_at",
        "t4"."rank",
        "t4"."email_opt_in",
        "t4"."line_opt_in",
        "t4"."dm_opt_in",
        "t4"."push_opt_in",
        "t4"."line_user_id",
        "t4"."time_zone",
        "t4"."acquisition_channel",
        "t4"."updated_at",
        "t4"."registered_on",
        "t7"."buyer",
        "t7"."first_order"
      FROM (
        SELECT
          "t0"."customer_id",
          "t0"."email",
          "t0"."name",
          "t0"."name_kana",
          "t0"."gender",
          "t0"."birth_date",
          "t0"."prefecture",
          "t0"."postal_code",
          "t0"."address1",
          "t0"."address2",
          "t0"."phone",
          "t0"."registered_at",
          "t0"."rank",
          "t0"."email_opt_in",
          "t0"."line_opt_in",
          "t0"."dm_opt_in",
          "t0"."push_opt_in",
          "t0"."line_user_id",
          "t0"."time_zone",
          "t0"."acquisition_channel",
          "t0"."updated_at",
          TO_DATE(DATEADD(HOUR, '9', "t0"."registered_at")) AS "registered_on"
        FROM "customers" AS "t0"
        WHERE
          TO_DATE(DATEADD(HOUR, '9', "t0"."registered_at")) <= DATE_FROM_PARTS(2026, 10, 31)
      ) AS "t4"
      LEFT OUTER JOIN (
        SELECT
          "t5"."customer_id" AS "buyer",
          "t5"."first_order"
        FROM (
          SELECT
            "t3"."customer_id",
            MIN("t3"."order_date") AS "first_order"
          FROM (
            SELECT
              "t1"."order_id",
              "t1"."customer_id",
              "t1"."ordered_at",
              "t1"."status",
              "t1"."channel",
              "t1"."subtotal",
              "t1"."discount",
              "t1"."shipping_fee",
              "t1"."points_used",
              "t1"."total",
              "t1"."points_earned",
              "t1"."coupon_code",
              "t1"."subscription_id",
              "t1"."payment_method",
              "t1"."shipping_prefecture",
              "t1"."is_gift",
              TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) AS "order_date"
            FROM "orders" AS "t1"
            WHERE
              "t1"."status" = 'completed'
              AND "t1"."customer_id" IS NOT NULL
              AND TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) <= DATE_FROM_PARTS(2026, 10, 31)
          ) AS "t3"
          GROUP BY
            1
        ) AS "t5"
      ) AS "t7"
        ON "t4"."customer_id" = "t7"."buyer"
    ) AS "t8"
  ) AS "t9"
  GROUP BY
    1
) AS "t10"
ORDER BY
  "t10"."month" ASC
