SELECT
  *
FROM (
  SELECT
    `t9`.`reason`,
    `t9`.`cancellations`,
    `t9`.`avg_deliveries`,
    `t9`.`avg_days_active`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t9`.`cancellations` AS FLOAT64),
            NULLIF(
              SUM(`t9`.`cancellations`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share`
  FROM (
    SELECT
      `t8`.`reason`,
      COUNT(`t8`.`subscription_id`) AS `cancellations`,
      ieee_divide(CAST(FLOOR((
        AVG(`t8`.`shipped`) * 100
      ) + 0.5) AS INT64), 100) AS `avg_deliveries`,
      ieee_divide(CAST(FLOOR((
        AVG(`t8`.`days_active`) * 100
      ) + 0.5) AS INT64), 100) AS `avg_days_active`
    FROM (
      SELECT
        `t7`.`subscription_id`,
        `t7`.`customer_id`,
        `t7`.`product_id`,
        `t7`.`quantity`,
        `t7`.`unit_price`,
        `t7`.`cycle_unit`,
        `t7`.`cycle_interval`,
        `t7`.`status`,
        `t7`.`started_at`,
        `t7`.`cancelled_at`,
        `t7`.`cancel_reason`,
        `t7`.`next_delivery_on`,
        `t7`.`updated_at`,
        `t7`.`start_date`,
        `t7`.`cancel_date`,
        `t7`.`is_cancelled`,
        `t7`.`subscription_id_right`,
        COALESCE(`t7`.`shipped`, 0) AS `shipped`,
        COALESCE(`t7`.`cancel_reason`, '(未回答)') AS `reason`,
        DATE_DIFF(`t7`.`cancel_date`, `t7`.`start_date`, DAY) AS `days_active`
      FROM (
        SELECT
          `t6`.`subscription_id`,
          `t6`.`customer_id`,
          `t6`.`product_id`,
          `t6`.`quantity`,
          `t6`.`unit_price`,
          `t6`.`cycle_unit`,
          `t6`.`cycle_interval`,
          `t6`.`status`,
          `t6`.`started_at`,
          `t6`.`cancelled_at`,
          `t6`.`cancel_reason`,
          `t6`.`next_delivery_on`,
          `t6`.`updated_at`,
          `t6`.`start_date`,
          `t6`.`cancel_date`,
          `t6`.`is_cancelled`,
          `t4`.`subscription_id` AS `subscription_id_right`,
          `t4`.`shipped`
        FROM (
          SELECT
            `t0`.`subscription_id`,
            `t0`.`customer_id`,
            `t0`.`product_id`,
            `t0`.`quantity`,
            `t0`.`unit_price`,
            `t0`.`cycle_unit`,
            `t0`.`cycle_interval`,
            `t0`.`status`,
            `t0`.`started_at`,
            `t0`.`cancelled_at`,
            `t0`.`cancel_reason`,
            `t0`.`next_delivery_on`,
            `t0`.`updated_at`,
            DATE(TIMESTAMP_ADD(`t0`.`started_at`, INTERVAL '9' HOUR)) AS `start_date`,
            DATE(TIMESTAMP_ADD(`t0`.`cancelled_at`, INTERVAL '9' HOUR)) AS `cancel_date`,
            IF(
              (
                DATE(TIMESTAMP_ADD(`t0`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
              )
              AND (
                DATE(TIMESTAMP_ADD(`t0`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ),
              1,
              0
            ) AS `is_cancelled`
          FROM `subscriptions` AS `t0`
          WHERE
            DATE(TIMESTAMP_ADD(`t0`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            AND IF(
              (
                DATE(TIMESTAMP_ADD(`t0`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
              )
              AND (
                DATE(TIMESTAMP_ADD(`t0`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ),
              1,
              0
            ) = 1
        ) AS `t6`
        LEFT OUTER JOIN (
          SELECT
            `t2`.`subscription_id`,
            COUNT(`t2`.`delivery_number`) AS `shipped`
          FROM (
            SELECT
              *
            FROM `subscription_deliveries` AS `t1`
            WHERE
              `t1`.`status` = 'shipped' AND `t1`.`scheduled_on` <= DATE(2026, 10, 31)
          ) AS `t2`
          GROUP BY
            1
        ) AS `t4`
          ON `t6`.`subscription_id` = `t4`.`subscription_id`
      ) AS `t7`
    ) AS `t8`
    GROUP BY
      1
  ) AS `t9`
) AS `t10`
ORDER BY
  `t10`.`cancellations` DESC,
  `t10`.`reason` ASC NULLS LAST
