SELECT
  *
FROM (
  SELECT
    `t9`.`bucket_order`,
    `t9`.`bucket`,
    `t9`.`count`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t9`.`count` AS FLOAT64),
            NULLIF(
              SUM(`t9`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(SUM(`t9`.`count`) OVER (ORDER BY `t9`.`bucket_order` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS FLOAT64),
            NULLIF(
              SUM(`t9`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `cumulative_share`
  FROM (
    SELECT
      `t2`.`bucket_order`,
      `t2`.`bucket`,
      COALESCE(`t8`.`n`, 0) AS `count`
    FROM `memtable_1` AS `t2`
    LEFT OUTER JOIN (
      SELECT
        `t6`.`bucket_order`,
        COUNT(`t6`.`recency_days`) AS `n`
      FROM (
        SELECT
          `t5`.`customer_id`,
          `t5`.`orders`,
          `t5`.`revenue`,
          `t5`.`first_order`,
          `t5`.`last_order`,
          `t5`.`recency_days`,
          CASE
            WHEN `t5`.`recency_days` <= 30
            THEN 0
            WHEN `t5`.`recency_days` <= 60
            THEN 1
            WHEN `t5`.`recency_days` <= 90
            THEN 2
            WHEN `t5`.`recency_days` <= 180
            THEN 3
            WHEN `t5`.`recency_days` <= 365
            THEN 4
            ELSE 5
          END AS `bucket_order`
        FROM (
          SELECT
            `t4`.`customer_id`,
            `t4`.`orders`,
            `t4`.`revenue`,
            `t4`.`first_order`,
            `t4`.`last_order`,
            DATE_DIFF(DATE(2026, 10, 31), `t4`.`last_order`, DAY) AS `recency_days`
          FROM (
            SELECT
              `t3`.`customer_id`,
              COUNT(`t3`.`order_id`) AS `orders`,
              SUM(`t3`.`total`) AS `revenue`,
              MIN(`t3`.`order_date`) AS `first_order`,
              MAX(`t3`.`order_date`) AS `last_order`
            FROM (
              SELECT
                `t1`.`order_id`,
                `t1`.`customer_id`,
                `t1`.`ordered_at`,
                `t1`.`status`,
                `t1`.`channel`,
                `t1`.`subtotal`,
                `t1`.`discount`,
                `t1`.`shipping_fee`,
                `t1`.`points_used`,
                `t1`.`total`,
                `t1`.`points_earned`,
                `t1`.`coupon_code`,
                `t1`.`subscription_id`,
                `t1`.`payment_method`,
                `t1`.`shipping_prefecture`,
                `t1`.`is_gift`,
                DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
              FROM `orders` AS `t1`
              WHERE
                `t1`.`status` = 'completed'
                AND `t1`.`customer_id` IS NOT NULL
                AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
            ) AS `t3`
            GROUP BY
              1
          ) AS `t4`
        ) AS `t5`
      ) AS `t6`
      GROUP BY
        1
    ) AS `t8`
      ON `t2`.`bucket_order` = `t8`.`bucket_order`
  ) AS `t9`
) AS `t10`
ORDER BY
  `t10`.`bucket_order` ASC NULLS LAST
